#!/usr/bin/env bash
# The built-in demo: simulate a 3-floor building with two elevators (a real rosbag2 MCAP bag with
# laser, SLAM pose, odometry, barometer and camera), process it with the YOLO detector on every
# camera frame, and print the floors, rides and links found beside the ground truth.
# Output: out/demo/bag, out/demo/ground_truth, out/demo/building (maps, building.yaml, PNG).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup_env.sh
export YOLO_OFFLINE=1
py=.venv/bin/python
demo=${DEMO_DIR:-out/demo}
if [ ! -f "$demo/bag/metadata.yaml" ]; then
  $py -m multifloor_slam simulate "$demo" --floors 3 --seed 0 --compressed --force
fi
$py -m multifloor_slam process "$demo/bag" --out "$demo/building" --truth "$demo/ground_truth" "$@"
