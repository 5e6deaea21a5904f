#!/usr/bin/env python3
"""Record a PyTorch program's GPU stream activity as an `interlock gpu` trace.

    python tools/torch_recorder.py trace.json my_program.py [args...]
    interlock gpu trace.json

or, around part of a program:

    from torch_recorder import Recorder
    with Recorder("trace.json"):
        train_one_step()

What is recorded (trace format version 1, see docs/gpu.md):

- every ATen op, through a TorchDispatchMode: the current stream, the storages
  it reads and writes (from the op schema's alias annotations, as
  torch.cuda._sanitizer does), and the Python file and line that called it;
  a copy between CPU and CUDA becomes a `memcpy` with `async` = non_blocking;
  ops on CPU storages that took part in such a copy become `host_read` /
  `host_write`; `.item()` becomes a read followed by a `stream_sync`;
- `record_stream`, caught in the same dispatch mode;
- the caching allocator's allocations and frees, event record and wait,
  stream, event and device synchronize, through torch.cuda._gpu_trace (the
  hooks the CUDA sanitizer uses); allocations are stream-ordered on the
  stream current at the allocation, frees on the stream of the allocation;
- Event.query() and Stream.query(), with their result;
- Thread.start() and Thread.join() as `thread_spawn` / `thread_join`.
  Locks between host threads are not seen: call `recorder.lock(name)` and
  `recorder.unlock(name)` where they matter.

Not seen: memory touched outside the dispatcher (`tensor.numpy()` views,
custom CUDA extensions that bypass ATen, NCCL), and CUDA graphs. Buffers are
named by their storage's address, so a block the allocator hands out again
keeps its name, with an `alloc` in between.

This file needs a CUDA machine with PyTorch 2.2 or later (torch.cuda._gpu_trace);
it has not been run in this repository's CI, which has no GPU.
"""

import json
import os
import runpy
import sys
import threading

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils import _pytree as pytree

try:
    import torch.cuda._gpu_trace as gpu_trace  # PyTorch >= 2.2
except ImportError:  # older releases
    import torch.utils._cuda_trace as gpu_trace

aten = torch.ops.aten
_HERE = os.path.abspath(__file__)
_TORCH = os.path.dirname(os.path.abspath(torch.__file__))


class Recorder(TorchDispatchMode):
    def __init__(self, path):
        super().__init__()
        self.path = path
        self.ops = []
        self.streams = {0: 0}  # cudaStream_t -> trace stream id; 0 is the default stream
        self.threads = {}  # threading ident -> trace thread id
        self.next_thread = 0
        self.buffers = {}  # CUDA allocation address -> (name, stream id)
        self.host = {}  # CPU storage address -> name, for storages seen in copies
        self.generation = 0
        self.lock_ = threading.Lock()

    # -- the trace -------------------------------------------------------

    def emit(self, op, **fields):
        entry = {"op": op, **fields}
        thread = self.thread_id(threading.get_ident())
        if thread:
            entry["thread"] = thread
        site = self.caller()
        if site:
            entry["file"], entry["line"] = site
        with self.lock_:
            self.ops.append(entry)

    def thread_id(self, ident):
        with self.lock_:
            known = self.threads.get(ident)
        if known is None:
            known = self.threads[ident] = self.new_thread()
        return known

    def new_thread(self):
        with self.lock_:
            self.next_thread += 1
            return self.next_thread - 1

    def stream_id(self, cuda_stream):
        with self.lock_:
            return self.streams.setdefault(int(cuda_stream), len(self.streams))

    def current_stream(self):
        return self.stream_id(torch.cuda.current_stream().cuda_stream)

    @staticmethod
    def caller():
        frame = sys._getframe(2)
        while frame is not None:
            file = os.path.abspath(frame.f_code.co_filename)
            if file != _HERE and not file.startswith(_TORCH):
                return os.path.relpath(file), frame.f_lineno
            frame = frame.f_back
        return None

    def write(self):
        streams = [
            # PyTorch's side streams are created non-blocking.
            {"id": sid, "blocking": False}
            for handle, sid in sorted(self.streams.items(), key=lambda kv: kv[1])
            if sid != 0
        ]
        with open(self.path, "w") as out:
            out.write('{\n  "version": 1,\n  "default_stream": "legacy",\n')
            out.write('  "streams": %s,\n  "ops": [\n' % json.dumps(streams))
            out.write(",\n".join("    " + json.dumps(op) for op in self.ops))
            out.write("\n  ]\n}\n")

    # -- buffers ---------------------------------------------------------

    def buffer(self, tensor):
        """The trace name of a tensor's storage, or None when it is not tracked."""
        ptr = tensor.untyped_storage().data_ptr()
        if tensor.is_cuda:
            known = self.buffers.get(ptr)
            return known[0] if known else "cuda:0x%x" % ptr
        return self.host.get(ptr)

    def host_buffer(self, tensor):
        """Starts tracking a CPU storage that takes part in a copy."""
        ptr = tensor.untyped_storage().data_ptr()
        if ptr not in self.host:
            self.generation += 1
            name = "cpu:0x%x#%d" % (ptr, self.generation)
            self.host[ptr] = name
            space = "pinned" if tensor.is_pinned() else "pageable"
            self.emit("alloc", buffer=name, space=space)
        return self.host[ptr]

    def on_alloc(self, ptr, *_size):
        stream = self.current_stream()
        name = "cuda:0x%x" % ptr
        self.buffers[ptr] = (name, stream)
        self.emit("alloc", buffer=name, space="device", stream=stream)

    def on_free(self, ptr, *_size):
        # The caching allocator frees in the order of the block's stream (the
        # current one, for a block allocated before recording began).
        name, stream = self.buffers.pop(ptr, ("cuda:0x%x" % ptr, self.current_stream()))
        self.emit("free", buffer=name, stream=stream)

    # -- synchronization ---------------------------------------------------

    def on_record(self, event, stream):
        self.emit("event_record", event="0x%x" % event, stream=self.stream_id(stream))

    def on_wait(self, event, stream):
        self.emit("stream_wait_event", stream=self.stream_id(stream), event="0x%x" % event)

    def on_stream_sync(self, stream):
        self.emit("stream_sync", stream=self.stream_id(stream))

    def on_event_sync(self, event):
        self.emit("event_sync", event="0x%x" % event)

    def on_device_sync(self):
        self.emit("device_sync")

    def lock(self, name):
        self.emit("lock", lock=name)

    def unlock(self, name):
        self.emit("unlock", lock=name)

    # -- ops -------------------------------------------------------------

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is aten.record_stream.default:
            out = func(*args, **kwargs)
            tensor, stream = args[0], args[1]
            handle = torch.cuda.Stream(
                stream_id=stream.stream_id,
                device_index=stream.device_index,
                device_type=stream.device_type,
            ).cuda_stream
            self.emit("record_stream", buffer=self.buffer(tensor), stream=self.stream_id(handle))
            return out

        reads, writes = [], []
        schema = func._schema
        positional = schema.arguments[: len(args)]
        named = {a.name: a for a in schema.arguments[len(args):]}
        pairs = list(zip(positional, args)) + [(named[k], v) for k, v in kwargs.items() if k in named]
        for argument, value in pairs:
            alias = argument.alias_info
            for t in pytree.tree_leaves(value):
                if isinstance(t, torch.Tensor):
                    if alias is not None and alias.is_write:
                        writes.append(t)
                    elif alias is None:
                        reads.append(t)
        out = func(*args, **kwargs)
        for ret in schema.returns:
            if ret.alias_info is None:
                writes.extend(t for t in pytree.tree_leaves(out) if isinstance(t, torch.Tensor))
        self.record(func, reads, writes, args, kwargs)
        return out

    def record(self, func, reads, writes, args, kwargs):
        name = str(func)
        cuda = [t for t in reads + writes if t.is_cuda]
        cpu = [t for t in reads + writes if t.device.type == "cpu"]
        if cuda and cpu and func in (aten.copy_.default, aten._to_copy.default):
            src = reads[0] if reads else cuda[0]
            dst = writes[0] if writes else cpu[0]
            non_blocking = kwargs.get("non_blocking", args[2] if len(args) > 2 and func is aten.copy_.default else False)
            names = {}
            for t in (src, dst):
                names[id(t)] = self.buffer(t) if t.is_cuda else self.host_buffer(t)
            self.emit(
                "memcpy",
                stream=self.current_stream(),
                src=names[id(src)],
                dst=names[id(dst)],
                **{"async": bool(non_blocking)},
            )
            return
        if cuda:
            fields = {"stream": self.current_stream(), "name": name}
            r = sorted({self.buffer(t) for t in reads if t.is_cuda and t.numel()})
            w = sorted({self.buffer(t) for t in writes if t.is_cuda and t.numel()})
            if r:
                fields["reads"] = r
            if w:
                fields["writes"] = w
            if r or w:
                self.emit("kernel", **fields)
            if func is aten._local_scalar_dense.default:
                self.emit("stream_sync", stream=self.current_stream())
            return
        # A CPU op: host accesses to the storages that took part in copies.
        for t in reads:
            b = self.buffer(t)
            if b:
                self.emit("host_read", buffer=b)
        for t in writes:
            b = self.buffer(t)
            if b:
                self.emit("host_write", buffer=b)

    # -- installing ----------------------------------------------------------

    def __enter__(self):
        torch._C._activate_gpu_trace()
        gpu_trace.register_callback_for_memory_allocation(self.on_alloc)
        gpu_trace.register_callback_for_memory_deallocation(self.on_free)
        gpu_trace.register_callback_for_event_record(self.on_record)
        gpu_trace.register_callback_for_event_wait(self.on_wait)
        gpu_trace.register_callback_for_stream_synchronization(self.on_stream_sync)
        gpu_trace.register_callback_for_event_synchronization(self.on_event_sync)
        gpu_trace.register_callback_for_device_synchronization(self.on_device_sync)
        self._patch()
        return super().__enter__()

    def __exit__(self, *exc):
        result = super().__exit__(*exc)
        self._unpatch()
        # The callbacks cannot be unregistered: stop recording into this trace.
        self.emit = lambda *a, **k: None
        self.write()
        return result

    def _patch(self):
        recorder = self
        self._saved = (torch.cuda.Event.query, torch.cuda.Stream.query, threading.Thread.start, threading.Thread.join)
        event_query, stream_query, start, join = self._saved

        def query_event(event):
            ready = event_query(event)
            recorder.emit("event_query", event="0x%x" % event.cuda_event, ready=bool(ready))
            return ready

        def query_stream(stream):
            ready = stream_query(stream)
            recorder.emit("stream_query", stream=recorder.stream_id(stream.cuda_stream), ready=bool(ready))
            return ready

        def start_thread(thread):
            child = recorder.new_thread()
            recorder.emit("thread_spawn", child=child)
            thread._interlock_child = child
            run = thread.run

            def traced_run():
                with recorder.lock_:
                    recorder.threads[threading.get_ident()] = child
                # Dispatch modes are per thread: enter this one here too.
                with recorder_mode(recorder):
                    run()

            thread.run = traced_run
            return start(thread)

        def join_thread(thread, timeout=None):
            out = join(thread, timeout)
            child = getattr(thread, "_interlock_child", None)
            if child is not None and not thread.is_alive():
                recorder.emit("thread_join", child=child)
            return out

        torch.cuda.Event.query = query_event
        torch.cuda.Stream.query = query_stream
        threading.Thread.start = start_thread
        threading.Thread.join = join_thread

    def _unpatch(self):
        torch.cuda.Event.query, torch.cuda.Stream.query, threading.Thread.start, threading.Thread.join = self._saved


class recorder_mode:
    """Re-enters the dispatch mode on a new thread (modes are per thread)."""

    def __init__(self, recorder):
        self.recorder = recorder

    def __enter__(self):
        return TorchDispatchMode.__enter__(self.recorder)

    def __exit__(self, *exc):
        return TorchDispatchMode.__exit__(self.recorder, *exc)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: torch_recorder.py TRACE.json PROGRAM.py [ARGS...]")
    trace, program = sys.argv[1], sys.argv[2]
    sys.argv = sys.argv[2:]
    with Recorder(trace):
        runpy.run_path(program, run_name="__main__")
    print("wrote %s; check it with: interlock gpu %s" % (trace, trace), file=sys.stderr)


if __name__ == "__main__":
    main()
