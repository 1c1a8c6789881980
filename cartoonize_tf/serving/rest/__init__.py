"""TF Serving's REST API and the web page, on aiohttp."""
