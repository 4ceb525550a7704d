"""Streams to the client: the rest of a model's stream after its first chunk,
and a cached answer replayed as SSE.

After the first byte there is no silent switch to another model: a failure
ends the stream with an error event. The caller learns how the stream ended
(and the assembled answer, for the cache) through one `done` callback, which
runs exactly once, also when the client goes away.
"""

from __future__ import annotations

from typing import AsyncIterator, Callable

from serve_app.errors import UpstreamError
from serve_app.protocol import SSE_DONE, StreamAssembler, body_to_chunks, sse

# done(status, body): "ok" with the assembled body; "error" (the model failed
# mid-stream) or "cancelled" (the client went away first) with None.
Done = Callable[[str, dict | None], None]


async def relay(first: dict, chunks: AsyncIterator[dict], done: Done) -> AsyncIterator[bytes]:
    status, body = "cancelled", None
    assembled = StreamAssembler()
    try:
        assembled.add(first)
        yield sse(first)
        async for chunk in chunks:
            assembled.add(chunk)
            yield sse(chunk)
        yield SSE_DONE
        status, body = "ok", assembled.body()
    except UpstreamError as err:
        status = "error"
        yield sse(err.body())
    finally:
        await chunks.aclose()
        done(status, body)


async def replay(body: dict) -> AsyncIterator[bytes]:
    """A complete answer (a cache hit) as the chunks a stream would have sent."""
    for chunk in body_to_chunks(body):
        yield sse(chunk)
    yield SSE_DONE
