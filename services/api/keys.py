"""Typed application keys of the api's aiohttp app."""

from aiohttp import web

from imagewatch.runtime.runner import ServiceContext

CTX = web.AppKey("ctx", ServiceContext)
TOKEN = web.AppKey("token", str)
MAX_BODY = web.AppKey("max_body", int)
