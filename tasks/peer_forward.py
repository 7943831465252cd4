#!/usr/bin/env python3
"""Forward-only timing of a benchmark peer, for the export row's comparison.

Imports the peer script given by --peer (../shared/peer/vatt_torch.py or
vatt_tf.py: a training-step benchmark) as a module, builds its `Vatt` at the
sizes given with the peer's own flags, and times the inference pass instead of
a training step: no gradients, no DropToken (--droptoken 0), PyTorch in eval
mode (BatchNorm on its running statistics), TensorFlow as one tf.function
(with XLA under --xla). Prints the peer's JSON line with "mode": "forward";
ms_per_step is per forward batch, read back to the host.
"""
import argparse, importlib.util, json, os, sys, time

SIZES = [("batch", 8), ("frames", 8), ("size", 64), ("patch-t", 4), ("patch-hw", 16),
         ("audio-samples", 25600), ("audio-patch", 128), ("text-len", 16), ("captions", 5),
         ("vocab", 4096), ("dim", 256), ("layers", 4), ("heads", 4), ("mlp", 1024),
         ("steps", 5), ("warmup", 2), ("threads", 2), ("seed", 0)]


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--peer", required=True, help="the peer script whose model is timed")
    p.add_argument("--framework", choices=["pytorch", "tensorflow"], required=True)
    for name, default in SIZES:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--droptoken", type=float, default=0.5, help="ignored: inference keeps every token")
    p.add_argument("--tau", type=float, default=0.07)
    p.add_argument("--xla", action="store_true")
    a = p.parse_args()
    a.droptoken = 0.0
    return a


def load(path):
    spec = importlib.util.spec_from_file_location("vatt_peer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(a, run):
    for _ in range(a.warmup):
        run()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        run()
    return (time.perf_counter() - t0) / a.steps


def torch_forward(a, peer):
    import torch
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    model = peer.Vatt(a).eval()
    video = torch.rand(a.batch, a.frames, a.size, a.size, 3) * 2 - 1
    audio = torch.rand(a.batch, a.audio_samples) * 2 - 1
    text = torch.randint(0, a.vocab, (a.batch, a.captions, a.text_len))

    def run():
        with torch.no_grad():
            return [z.numpy() for z in model(video, audio, text)]

    dt = timed(a, run)
    params = sum(x.numel() for x in model.parameters())
    return dt, params, torch.__version__


def tf_forward(a, peer):
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.random.set_seed(a.seed)
    model = peer.Vatt(a, a.seed)
    video = tf.random.uniform([a.batch, a.frames, a.size, a.size, 3]) * 2 - 1
    audio = tf.random.uniform([a.batch, a.audio_samples]) * 2 - 1
    text = tf.random.uniform([a.batch, a.captions, a.text_len], 0, a.vocab, tf.int32)
    forward = tf.function(model.__call__, jit_compile=a.xla)

    def run():
        return [z.numpy() for z in forward(video, audio, text)]

    dt = timed(a, run)
    params = int(sum(np.prod(p.shape) for p in model.trainable_variables))
    return dt, params, f"tensorflow {tf.__version__}" + (" XLA" if a.xla else "")


def main():
    a = parse()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    peer = load(a.peer)
    forward = torch_forward if a.framework == "pytorch" else tf_forward
    dt, params, version = forward(a, peer)
    print(json.dumps({"ms_per_step": round(dt * 1000, 1), "clips_per_s": round(a.batch / dt, 2),
                      "params": params, "torch": version, "threads": a.threads, "mode": "forward",
                      "framework": a.framework, "xla": a.xla}))


if __name__ == "__main__":
    sys.exit(main())
