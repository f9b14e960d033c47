"""Health for a load balancer: /healthz (the process answers), /readyz (it can serve)."""

from fastapi import APIRouter

router = APIRouter()
