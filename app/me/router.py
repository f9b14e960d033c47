"""A trainee's own records (PIPL): sign in with ID number, mobile and a one-time code."""

from fastapi import APIRouter

router = APIRouter()
