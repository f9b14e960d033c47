"""The ASGI entry point for uvicorn: `uvicorn app.asgi:app`. The one place that reads the
environment for the web server; everything below it gets the settings from the app."""

from app.config import get_settings
from app.main import create_app

app = create_app(get_settings())
