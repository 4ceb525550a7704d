"""Local generation with Hugging Face transformers (CPU, or one GPU).

One generation runs at a time per replica: on CPU a second concurrent
generate() only splits the same cores and makes both slower, so requests
queue on an asyncio.Lock (where a waiting request can still be cancelled
cheaply) and generate() runs on a single dedicated thread, leaving the event
loop free for health checks and other requests' I/O.

Every call goes through one async core, `_pieces`, which yields decoded text
as it is produced; the non-streaming calls just join it. A closed or
cancelled consumer sets a threading.Event that a StoppingCriteria checks after
every token, and the lock is held until the worker thread has really stopped,
so an abandoned stream never keeps the cores busy behind the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

from serve_app.config.schema import TransformersEngine as TransformersSettings
from serve_app.engines.base import CallContext
from serve_app.errors import ModelUnavailable, UpstreamError
from serve_app.protocol import (
    chat_chunk,
    chat_response,
    completion_chunk,
    completion_response,
    new_id,
    usage,
)

log = logging.getLogger(__name__)

_END = object()  # the worker's "no more text" sentinel
# Roles some chat templates reject, mapped to the nearest one they know.
_ROLE_MAP = {"developer": "system"}


@dataclass
class _Outcome:
    """Filled in by the worker thread; read after the text stream ends."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"


class TransformersEngine:
    def __init__(self, name: str, settings: TransformersSettings, *, cache_dir: str | None = None):
        self.name = name
        self.settings = settings
        self._cache_dir = cache_dir  # where the bundled SmolLM2 is converted to
        self._model: Any = None
        self._tokenizer: Any = None
        self._eos_ids: set[int] = set()
        self._pad_id: int | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._model is not None:
            return
        try:
            await asyncio.to_thread(self._load)
        except Exception as exc:
            raise ModelUnavailable(f"could not load model: {exc}", model=self.name) from exc
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"generate-{self.name}")

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from serve_app.engines.smollm2 import ensure_smollm2_dir

        if self.settings.torch_threads:
            torch.set_num_threads(self.settings.torch_threads)
        path = self.settings.model or ensure_smollm2_dir(self._cache_dir)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype="auto")
        model.to(self.settings.device).eval()
        eos = model.generation_config.eos_token_id
        if eos is None:
            eos = tokenizer.eos_token_id
        self._eos_ids = set(eos if isinstance(eos, (list, tuple)) else [eos]) - {None}
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self._pad_id = pad
        self._tokenizer, self._model = tokenizer, model
        log.info("%s: loaded %s on %s", self.name, path, self.settings.device)

    async def check_health(self) -> None:
        if self._model is None or self._executor is None:
            raise ModelUnavailable(f"model {self.name!r} is not loaded", model=self.name)

    async def close(self) -> None:
        """Let the generation thread go (tests, graceful shutdown)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # --------------------------------------------------------------- chat

    async def chat(self, request: dict, ctx: CallContext | None = None) -> dict:
        out = _Outcome()
        text = await self._join(self._chat_encoder(request), request, out)
        return chat_response(self.name, text, finish_reason=out.finish_reason,
                             prompt_tokens=out.prompt_tokens,
                             completion_tokens=out.completion_tokens)

    async def stream_chat(self, request: dict, ctx: CallContext | None = None) -> AsyncIterator[dict]:
        rid, out, started = new_id("chatcmpl"), _Outcome(), False
        async with contextlib.aclosing(self._pieces(self._chat_encoder(request), request, out)) as pieces:
            async for piece in pieces:
                # The role chunk waits for the first text, so that a failure
                # before any output still lets the router fall back.
                if not started:
                    started = True
                    yield chat_chunk(self.name, rid, delta={"role": "assistant"})
                yield chat_chunk(self.name, rid, delta={"content": piece})
        if not started:
            yield chat_chunk(self.name, rid, delta={"role": "assistant"})
        yield chat_chunk(self.name, rid, delta={}, finish_reason=out.finish_reason)
        if _wants_usage(request):
            final = chat_chunk(self.name, rid, delta={})
            final["choices"], final["usage"] = [], usage(out.prompt_tokens, out.completion_tokens)
            yield final

    # -------------------------------------------------------- completions

    async def completions(self, request: dict, ctx: CallContext | None = None) -> dict:
        out = _Outcome()
        text = await self._join(self._prompt_encoder(request), request, out)
        return completion_response(self.name, text, finish_reason=out.finish_reason,
                                   prompt_tokens=out.prompt_tokens,
                                   completion_tokens=out.completion_tokens)

    async def stream_completions(self, request: dict, ctx: CallContext | None = None) -> AsyncIterator[dict]:
        rid, out = new_id("cmpl"), _Outcome()
        async with contextlib.aclosing(self._pieces(self._prompt_encoder(request), request, out)) as pieces:
            async for piece in pieces:
                yield completion_chunk(self.name, rid, text=piece)
        yield completion_chunk(self.name, rid, text="", finish_reason=out.finish_reason)
        if _wants_usage(request):
            final = completion_chunk(self.name, rid, text="")
            final["choices"], final["usage"] = [], usage(out.prompt_tokens, out.completion_tokens)
            yield final

    # ------------------------------------------------------------- inputs

    def _chat_encoder(self, request: dict) -> Callable[[], Any]:
        messages = [
            {"role": _ROLE_MAP.get(m.get("role"), m.get("role")), "content": _text(m.get("content"))}
            for m in request.get("messages") or []
        ]

        def encode():
            return self._tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_dict=True, return_tensors="pt")
        return encode

    def _prompt_encoder(self, request: dict) -> Callable[[], Any]:
        prompt = request.get("prompt") or ""
        if isinstance(prompt, list):  # the wire model allows exactly one
            prompt = prompt[0] if prompt else ""

        def encode():
            return self._tokenizer(prompt, return_tensors="pt")
        return encode

    def _gen_kwargs(self, request: dict) -> dict:
        cap = self.settings.max_new_tokens
        asked = request.get("max_completion_tokens") or request.get("max_tokens")
        kw: dict = {"max_new_tokens": min(int(asked), cap) if asked else cap,
                    "pad_token_id": self._pad_id}
        temperature, top_p = request.get("temperature"), request.get("top_p")
        # Temperature 0 (or none) means greedy, as in OpenAI-compatible servers;
        # top_p 0 keeps only the best token, which is greedy too.
        if temperature and top_p != 0:
            # top_k=0 disables HF's top-k: OpenAI's API has no such knob.
            kw.update(do_sample=True, temperature=float(temperature),
                      top_p=float(top_p) if top_p is not None else 1.0, top_k=0)
        else:
            kw.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kw

    # --------------------------------------------------------------- core

    async def _join(self, encode: Callable[[], Any], request: dict, out: _Outcome) -> str:
        async with contextlib.aclosing(self._pieces(encode, request, out)) as pieces:
            return "".join([p async for p in pieces])

    async def _pieces(self, encode: Callable[[], Any], request: dict,
                      out: _Outcome) -> AsyncIterator[str]:
        """Decoded text as it is generated; `out` is complete once this ends."""
        await self.check_health()
        kwargs = self._gen_kwargs(request)
        seed = request.get("seed")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()
        async with self._lock:
            streamer = _QueueStreamer(self._tokenizer, loop, queue)
            fut = loop.run_in_executor(self._executor, self._work, encode, kwargs, seed,
                                       streamer, stop, out)
            try:
                while (item := await queue.get()) is not _END:
                    yield item
                await fut  # re-raises what the worker raised
            except UpstreamError:
                raise
            except Exception as exc:
                raise UpstreamError(f"generation failed: {type(exc).__name__}: {exc}",
                                    model=self.name) from exc
            finally:
                # Reached on normal end, error, aclose() and cancellation alike.
                stop.set()
                # Hold the lock until the thread has really stopped (one more
                # token at most); shield so a second cancel can't skip it. Also
                # retrieves an exception nobody else awaited.
                with contextlib.suppress(BaseException):
                    await asyncio.shield(fut)

    def _work(self, encode, kwargs: dict, seed, streamer: "_QueueStreamer",
              stop: threading.Event, out: _Outcome) -> None:
        """Runs on the generation thread."""
        import torch
        from transformers import StoppingCriteriaList

        try:
            if stop.is_set():  # cancelled while queued
                return
            inputs = encode().to(self._model.device)
            n_prompt = inputs["input_ids"].shape[-1]
            out.prompt_tokens = n_prompt
            if seed is not None:
                # Global RNG, but generations never overlap on this replica.
                torch.manual_seed(int(seed))
            with torch.inference_mode():
                seqs = self._model.generate(
                    **inputs, streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([_StopOnEvent(stop)]), **kwargs)
            new = seqs[0, n_prompt:].tolist()
            out.completion_tokens = len(new)
            hit_eos = bool(new) and new[-1] in self._eos_ids
            out.finish_reason = "length" if len(new) >= kwargs["max_new_tokens"] and not hit_eos else "stop"
        finally:
            streamer.close()


def _text(content) -> str:
    """OpenAI message content (string or parts) as plain text; non-text parts drop."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content
                     if isinstance(p, dict) and p.get("type") in ("text", "input_text"))


def _wants_usage(request: dict) -> bool:
    return bool((request.get("stream_options") or {}).get("include_usage"))


# transformers is imported lazily (nothing at import time), so these two small
# adapters are built on first use rather than subclassing at module level.
_classes: dict[str, type] = {}


def _QueueStreamer(tokenizer, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue):
    """A TextStreamer that hands finished text to an asyncio queue.

    TextIteratorStreamer's blocking queue would need a thread hop per token to
    read from async code, and its reader hangs if generate() raises before
    end(); pushing with call_soon_threadsafe plus an explicit close() avoids both.
    """
    cls = _classes.get("streamer")
    if cls is None:
        from transformers import TextStreamer

        class _Streamer(TextStreamer):
            def __init__(self, tok, loop, queue):
                super().__init__(tok, skip_prompt=True, skip_special_tokens=True)
                self._loop, self._queue = loop, queue

            def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
                if text:
                    self._push(text)

            def close(self) -> None:
                self._push(_END)

            def _push(self, item) -> None:
                with contextlib.suppress(RuntimeError):  # loop already closed
                    self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

        cls = _classes["streamer"] = _Streamer
    return cls(tokenizer, loop, queue)


def _StopOnEvent(event: threading.Event):
    """A StoppingCriteria that ends generation once `event` is set."""
    cls = _classes.get("stop")
    if cls is None:
        import torch
        from transformers import StoppingCriteria

        class _Stop(StoppingCriteria):
            def __init__(self, ev: threading.Event):
                self.event = ev

            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool,
                                  device=input_ids.device)

        cls = _classes["stop"] = _Stop
    return cls(event)
