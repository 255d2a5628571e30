"""Elevator detector speed: raw model vs. ``detect()`` vs. ``predict()`` vs. the real ROS node.

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/detector_speed.py                 # CPU, imgsz 320
    PYTHONPATH=$PWD python benchmarks/detector_speed.py --device cuda   # GPU: FP16 + batching
    PYTHONPATH=$PWD python benchmarks/detector_speed.py --backend openvino --no-node
    PYTHONPATH=$PWD python benchmarks/detector_speed.py --backend all --no-node  # each in turn

``--backend`` is the detector's (``auto``, ``pytorch``, ``openvino``, ``onnx``; ``all`` runs the
core rows once per backend); the node rows use the first backend named.

Rows (all in the same process, on the same frames, 640x480 bgr8 camera images):

- ``model forward``: the network alone on a prepared tensor (batch 1; the exported graph for
  ``openvino`` and ``onnx``);
- ``model forward batch B``: one forward of B frames, per frame;
- ``detector.detect``: letterbox + upload + forward + NMS (what the node calls);
- ``ultralytics predict``: ``YOLO.predict()`` on the same frame, for reference;
- ``node latency``: ``sensor_msgs/Image`` published -> ``elevator/state`` received, one frame at a
  time (round trip through DDS, the node's worker thread and the state machine);
- ``node throughput``: states per second while frames arrive at ``--rate`` Hz (newer frames
  replace older ones; the dropped share is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time

os.environ.setdefault('YOLO_OFFLINE', '1')
os.environ.setdefault('YOLO_CONFIG_DIR', tempfile.mkdtemp(prefix='yolo_cfg_'))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')

import cv2
import numpy as np


def _frames(n: int) -> list[np.ndarray]:
    from multifloor_slam.sim.elevator_scenes import render_scene

    return [cv2.resize(render_scene(99, i).image, (640, 480)) for i in range(n)]


def _time_ms(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(1e3 * (time.perf_counter() - t0))
    return out


def _row(name: str, ms: list[float], per: int = 1) -> tuple[str, float, float, float]:
    ms = [m / per for m in ms]
    med = statistics.median(ms)
    p95 = float(np.percentile(ms, 95))
    return name, med, p95, 1e3 / med


def bench_core(
    args: argparse.Namespace, frames: list[np.ndarray], backend: str, reference: bool = True
) -> tuple[list[tuple], str]:
    import torch

    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector

    det = ElevatorDetector(
        DetectorParams(
            model_path=args.model,
            device=args.device,
            imgsz=args.imgsz,
            half=True,
            cpu_threads=args.threads,
            backend=backend,
        )
    )
    sync = torch.cuda.synchronize if det.device.startswith('cuda') else (lambda: None)
    run = det._runner if det._runner is not None else det._net

    def prepare(images: list[np.ndarray]):
        if det._runner is None:
            return det._prepare(images)
        arr = det._letterboxed(images)
        return np.ascontiguousarray(arr[..., ::-1].transpose(0, 3, 1, 2), np.float32) / 255.0

    x = prepare([frames[0]])
    with torch.inference_mode():
        for _ in range(5):
            run(x)
        sync()

        def forward() -> None:
            run(x)
            sync()

        rows = [_row(f'model forward (batch 1) [{det.backend}]', _time_ms(forward, args.reps))]
        xb = prepare(frames[: args.batch])
        run(xb)
        sync()

        def forward_b() -> None:
            run(xb)
            sync()

        rows.append(
            _row(
                f'model forward batch {args.batch} (per frame) [{det.backend}]',
                _time_ms(forward_b, max(3, args.reps // 4)),
                args.batch,
            )
        )
    k = iter(range(10**9))
    rows.append(
        _row(
            f'detector.detect (letterbox+forward+NMS) [{det.backend}]',
            _time_ms(lambda: det.detect(frames[next(k) % len(frames)]), args.reps),
        )
    )
    rows.append(
        _row(
            f'detector.detect_batch {args.batch} (per frame) [{det.backend}]',
            _time_ms(lambda: det.detect_batch(frames[: args.batch]), max(3, args.reps // 4)),
            args.batch,
        )
    )
    if not reference:
        return rows, f'{det.device}{" fp16" if det.half else " fp32"} {det.backend}'
    det.predict_reference(frames[0])
    rows.append(
        _row(
            'ultralytics predict()',
            _time_ms(lambda: det.predict_reference(frames[next(k) % len(frames)]), args.reps),
        )
    )
    return rows, f'{det.device}{" fp16" if det.half else " fp32"} {det.backend}'


def bench_node(args: argparse.Namespace, frames: list[np.ndarray]) -> tuple[list[tuple], str]:
    import rclpy
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.node import Node
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import Image
    from std_msgs.msg import String

    from multifloor_slam.nodes.common import sensor_qos
    from multifloor_slam.nodes.elevator_detector import ElevatorDetectorNode

    rclpy.init()
    params = [
        Parameter('device', value=args.device),
        Parameter('imgsz', value=args.imgsz),
        Parameter('model_path', value=args.model),
        Parameter('publish_debug_image', value=False),
        Parameter('cpu_threads', value=args.threads),
        Parameter('backend', value=args.backends[0]),
    ]
    node = ElevatorDetectorNode(parameter_overrides=params)
    bench = Node('detector_bench')
    pub = bench.create_publisher(Image, 'camera/image_raw', sensor_qos(1))
    got: dict[float, float] = {}
    cond = threading.Condition()

    def on_state(msg: String) -> None:
        with cond:
            got[json.loads(msg.data)['stamp']] = time.perf_counter()
            cond.notify_all()

    bench.create_subscription(String, 'elevator/state', on_state, 10)
    ex = MultiThreadedExecutor(num_threads=2)
    ex.add_node(node)
    ex.add_node(bench)
    spin = threading.Thread(target=ex.spin, daemon=True)
    spin.start()
    while pub.get_subscription_count() == 0:
        time.sleep(0.05)
    msgs = []
    for f in frames:
        m = Image(encoding='bgr8', height=f.shape[0], width=f.shape[1], step=f.shape[1] * 3)
        m.data = f.tobytes()
        msgs.append(m)

    def send(i: int, stamp: float) -> None:
        m = msgs[i % len(msgs)]
        m.header.stamp.sec, m.header.stamp.nanosec = int(stamp), int((stamp % 1) * 1e9)
        pub.publish(m)

    lat = []
    stamp = 1.0
    for i in range(args.reps + 5):
        stamp += 0.05
        key = round(stamp, 6)
        t0 = time.perf_counter()
        send(i, key)
        with cond:
            ok = cond.wait_for(lambda key=key: any(abs(s - key) < 1e-6 for s in got), timeout=5.0)
        if ok and i >= 5:
            lat.append(1e3 * (max(got.values()) - t0))
    rows = [_row(f'node latency (Image -> elevator/state) [{node.detector.backend}]', lat)]
    before = dict(vars(node.stats))
    got.clear()
    t_end = time.perf_counter() + args.seconds
    i = 0
    period = 1.0 / args.rate
    next_t = time.perf_counter()
    while time.perf_counter() < t_end:
        stamp += period
        send(i, stamp)
        i += 1
        next_t += period
        time.sleep(max(0.0, next_t - time.perf_counter()))
    time.sleep(0.5)
    processed = node.stats.processed - before['processed']
    dropped = node.stats.dropped - before['dropped']
    fps = processed / args.seconds
    note = f'{i} frames sent at {args.rate:.0f} Hz, {processed} processed, {dropped} dropped'
    rows.append(('node throughput', 1e3 / max(fps, 1e-9), float('nan'), fps))
    ex.shutdown()
    node.close()
    node.destroy_node()
    bench.destroy_node()
    rclpy.try_shutdown()
    return rows, note


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cpu', help="'cpu', 'cuda' (= cuda:0) or 'auto'")
    ap.add_argument('--imgsz', type=int, default=320)
    ap.add_argument('--model', default='', help='weights (default: the shipped model)')
    ap.add_argument('--reps', type=int, default=60)
    ap.add_argument('--threads', type=int, default=0, help='torch CPU threads (0 = cores - 1)')
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--rate', type=float, default=30.0, help='camera rate for the throughput row')
    ap.add_argument('--seconds', type=float, default=5.0)
    ap.add_argument('--no-node', action='store_true', help='skip the ROS node rows')
    ap.add_argument(
        '--backend',
        default='auto',
        help="'auto', 'pytorch', 'openvino', 'onnx', a comma list, or 'all'",
    )
    args = ap.parse_args()
    if args.device == 'cuda':
        args.device = 'cuda:0'
    args.backends = (
        ['pytorch', 'openvino', 'onnx'] if args.backend == 'all' else args.backend.split(',')
    )
    frames = _frames(16)
    rows: list[tuple] = []
    devs = []
    for i, backend in enumerate(args.backends):
        more, dev = bench_core(args, frames, backend, reference=i == 0)
        rows += more
        devs.append(dev)
    dev = ', '.join(devs)
    note = ''
    if not args.no_node:
        node_rows, note = bench_node(args, frames)
        rows += node_rows
    import torch

    threads = torch.get_num_threads()
    print(f'\nelevator detector, imgsz {args.imgsz}, {dev}, 640x480 frames, {threads} threads')
    print(f'| {"what":58} | median ms | p95 ms |   fps |')
    print(f'|{"-" * 60}|----------:|-------:|------:|')
    for name, med, p95, fps in rows:
        p95s = '' if np.isnan(p95) else f'{p95:.1f}'
        print(f'| {name:58} | {med:9.1f} | {p95s:>6} | {fps:5.1f} |')
    if note:
        print(f'\nthroughput run: {note}')


if __name__ == '__main__':
    main()
