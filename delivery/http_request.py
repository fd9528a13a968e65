"""python-telegram-bot's request layer on aiohttp's HTTP client, for everything the bot sends.

PTB's default (HTTPXRequest) goes through httpx, httpcore, anyio and h11, all pure Python;
profiled at a few hundred messages a second they were most of the bot's CPU. httpcore's pool
also looks at every connection, and asks each idle one's socket whether it is readable, for
every request that starts or ends: with the dozens of connections a paid broadcast keeps busy
that alone took a fifth of the event loop. aiohttp (already the dashboard's and the webhook's
server) parses HTTP in C and keeps idle connections in a queue. Measured against the local Bot
API server, the same sendMessage cost about a third of the CPU.

Same contract as HTTPXRequest: the same default timeouts; TimedOut for a timeout (including no
free connection within pool_timeout plus connect_timeout: then nothing was sent); NetworkError
for any other failure to talk to the server; the status and body come back as they are, and
PTB's BaseRequest turns them into results and errors as before. Parameters go as a JSON body
(files as multipart). getUpdates keeps PTB's own request.
"""

from __future__ import annotations

import contextlib
import json
from typing import IO, Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

JSON_BODY = {"Content-Type": "application/json"}


def _timeout(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _sum(*parts: float | None) -> float | None:
    """A bound made of several waits; none if any of them is unbounded."""
    return None if any(part is None for part in parts) else sum(p for p in parts if p is not None)


class AiohttpRequest(BaseRequest):
    """A BaseRequest over one aiohttp ClientSession (created in the running loop)."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0,
                                             ttl_dns_cache=300)  # fmt: skip
            # No cookies (the Bot API sets none), no automatic decompression headers beyond
            # aiohttp's defaults; timeouts are given per request.
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self.USER_AGENT},
            )  # fmt: skip

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = _timeout(read_timeout, self._read_timeout)
        write_default = self._media_write_timeout if files else self._write_timeout
        write = _timeout(write_timeout, write_default)
        connect = _timeout(connect_timeout, self._connect_timeout)
        pool = _timeout(pool_timeout, self._pool_timeout)
        # aiohttp's `connect` covers waiting for a free connection and opening one; its
        # `sock_read` is the longest pause between bytes of the response (httpx's read timeout).
        # aiohttp has no write timeout of its own: the whole request is bounded instead, by the
        # sum of the waits PTB allows for each part.
        timeout = aiohttp.ClientTimeout(total=_sum(pool, connect, write, read),
                                        connect=_sum(pool, connect), sock_connect=connect,
                                        sock_read=read)  # fmt: skip
        data: aiohttp.FormData | bytes | None = None
        headers = None
        if files:
            data = _form(fields or {}, files)
        elif fields:
            # The Bot API takes a JSON body as it takes a form: each value here is already the
            # string PTB would put in the form (objects as their JSON), and Telegram reads a
            # string value exactly as that form field. json.dumps is C; form-encoding the same
            # text (urllib's quote_plus) was a tenth of the event loop at a thousand a second.
            data = json.dumps(fields, ensure_ascii=False).encode()
            headers = JSON_BODY
        try:
            async with session.request(method, url, data=data, headers=headers,
                                       timeout=timeout) as response:  # fmt: skip
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's timeouts are TimeoutErrors, too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err


def _form(fields: dict[str, str], files: dict[str, Any]) -> aiohttp.FormData:
    """A multipart body: the parameters, then each file as (filename, content, mimetype)."""
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        body = content if isinstance(content, bytes) else _read(content)
        form.add_field(name, body, filename=filename, content_type=mimetype)
    return form


def _read(handle: IO[bytes]) -> bytes:
    with contextlib.suppress(AttributeError, OSError):
        handle.seek(0)
    return handle.read()
