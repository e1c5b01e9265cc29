#!/usr/bin/env python3
"""A straightforward pandas/numpy extraction of the 39 action features of Antal &
Egyed-Zsigmond (2019) from Balabit-format session files: the baseline that
`pointerprint features` is measured against in BENCHMARKS.md.

It does what the Rust side does for these 39 columns, the way one would write it in
Python: pandas reads each file, a loop over the events cuts them into actions (mouse
move, point-and-click, drag-and-drop, scroll), numpy computes each action's features,
and pandas writes one CSV row per action.

    python3 benches/python/features_baseline.py DIR OUT.csv

Needs pandas and numpy (not a dependency of the project's tests).
"""

import os
import sys

import numpy as np
import pandas as pd

MOVE_GAP_MS = 1000.0  # a longer rest ends a movement
SCROLL_GAP_MS = 500.0  # wheel events further apart are separate scrolls
DRAG_MIN_PX = 8.0  # a press and release this far apart were a drag
MIN_MOVE_POINTS = 4  # shorter plain movements are skipped
CRITICAL_TURN = np.pi / 4  # a sharper turn between steps is a critical point
BREAK_MS = 10_000.0  # a longer pause, or time going back, starts a new segment

NAMES = [
    "action_type", "elapsed_time", "traveled_distance", "direction", "straightness",
    "num_points", "sum_of_angles", "mean_curv", "sd_curv", "max_curv", "min_curv",
    "mean_omega", "sd_omega", "max_omega", "min_omega", "largest_deviation",
    "dist_end_to_end_line", "num_critical_points", "mean_vx", "sd_vx", "max_vx", "min_vx",
    "mean_vy", "sd_vy", "max_vy", "min_vy", "mean_v", "sd_v", "max_v", "min_v",
    "mean_a", "sd_a", "max_a", "min_a", "mean_jerk", "sd_jerk", "max_jerk", "min_jerk",
    "a_beg_time",
]

MM, PC, DD, SCROLL = 0, 1, 2, 3


def session_files(root):
    if os.path.isfile(root):
        return [root]
    found = []
    for folder, _, files in os.walk(root):
        found.extend(os.path.join(folder, f) for f in files)
    return sorted(found)


def read_session(path):
    """Events as a DataFrame: t (ms), x, y, button, state; glitches and repeats dropped."""
    df = pd.read_csv(path)
    df.columns = ["record", "t", "button", "state", "x", "y"]
    df["t"] = df["t"] * 1000.0
    df = df[(df["x"].abs() < 65_000) & (df["y"].abs() < 65_000)]
    df = df.sort_values("t", kind="stable")
    # Same instant, same kind: keep the last position.
    df = df[~(df["t"].eq(df["t"].shift(-1)) & df["state"].eq(df["state"].shift(-1)))]
    return df.reset_index(drop=True)


def stats(values):
    """Mean, standard deviation, max and min; zeros when there is nothing to summarise."""
    if len(values) == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [values.mean(), values.std(), values.max(), values.min()]


def direction_sector(dx, dy):
    angle = np.arctan2(dy, dx) % (2 * np.pi)
    return float(int(angle // (np.pi / 4)) % 8)


def features(kind, t, x, y):
    """The 39 features of one action from its timed positions."""
    # One position per instant.
    keep = np.append(t[1:] != t[:-1], True)
    t, x, y = t[keep], x[keep], y[keep]
    elapsed = t[-1] - t[0]
    dt, dx, dy = np.diff(t), np.diff(x), np.diff(y)
    ds = np.hypot(dx, dy)
    distance = ds.sum()
    end_to_end = float(np.hypot(x[-1] - x[0], y[-1] - y[0]))
    if end_to_end > 0:
        deviation = np.abs((x[-1] - x[0]) * (y[0] - y) - (x[0] - x) * (y[-1] - y[0])) / end_to_end
        largest_deviation = float(deviation[1:].max()) if len(deviation) > 1 else 0.0
    else:
        largest_deviation = float(np.hypot(x - x[0], y - y[0]).max())
    moving = ds > 0
    theta = np.arctan2(dy[moving], dx[moving])
    turns = (np.diff(theta) + np.pi) % (2 * np.pi) - np.pi
    curv = turns / ds[moving][1:]
    omega = turns / dt[moving][1:]
    vx, vy = dx / dt, dy / dt
    v = ds / dt
    a = np.diff(v) / dt[1:]
    jerk = np.diff(a) / dt[2:]
    stops = np.nonzero(a <= 0)[0]
    a_beg = float(t[stops[0] + 1] - t[0]) if len(stops) else elapsed
    return (
        [float(kind), elapsed, distance, direction_sector(x[-1] - x[0], y[0] - y[-1]),
         end_to_end / distance if distance > 0 else 1.0, float(len(t)),
         float(np.abs(turns).sum())]
        + stats(curv) + stats(omega)
        + [largest_deviation, end_to_end, float((np.abs(turns) > CRITICAL_TURN).sum())]
        + stats(vx) + stats(vy) + stats(v) + stats(a) + stats(jerk)
        + [a_beg]
    )


def actions(df):
    """(kind, first, last) index ranges of the session's actions, in time order."""
    t = df["t"].to_numpy()
    x = df["x"].to_numpy(dtype=float)
    y = df["y"].to_numpy(dtype=float)
    state = df["state"].to_numpy()
    found = []
    pending = None

    def movement(start, end):
        if start is not None and end - start >= MIN_MOVE_POINTS:
            found.append((MM, start, end))

    i, n = 0, len(df)
    while i < n:
        s = state[i]
        if i > 0 and (t[i] - t[i - 1] > BREAK_MS or t[i] < t[i - 1]):
            movement(pending, i)
            pending = None
        if s in ("Move", "Drag"):
            if pending is not None and t[i] - t[i - 1] > MOVE_GAP_MS:
                movement(pending, i)
                pending = None
            if pending is None:
                pending = i
            i += 1
        elif s == "Pressed":
            release = None
            for j in range(i + 1, n):
                if state[j] == "Released":
                    release = j
                    break
                if state[j] == "Pressed":
                    break
            if release is None:
                i += 1
                continue
            dragged = (state[i + 1:release] == "Drag").any() or np.hypot(
                x[release] - x[i], y[release] - y[i]) > DRAG_MIN_PX
            approach = pending if pending is not None and i > 0 and t[i] - t[i - 1] <= MOVE_GAP_MS else None
            if dragged:
                movement(pending, i)
                found.append((DD, i, release + 1))
            else:
                if approach is None:
                    movement(pending, i)
                found.append((PC, approach if approach is not None else i, release + 1))
            pending = None
            i = release + 1
        elif s in ("Up", "Down"):
            movement(pending, i)
            pending = None
            end = i + 1
            while end < n and state[end] in ("Up", "Down") and t[end] - t[end - 1] <= SCROLL_GAP_MS:
                end += 1
            found.append((SCROLL, i, end))
            i = end
        else:
            i += 1
    movement(pending, n)
    return found, t, x, y


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: features_baseline.py DIR OUT.csv")
    rows, files = [], []
    for path in session_files(sys.argv[1]):
        found, t, x, y = actions(read_session(path))
        for number, (kind, start, end) in enumerate(found):
            rows.append(features(kind, t[start:end], x[start:end], y[start:end]))
            files.append((path, number))
    out = pd.DataFrame(rows, columns=NAMES)
    out.insert(0, "action", [n for _, n in files])
    out.insert(0, "file", [p for p, _ in files])
    out.to_csv(sys.argv[2], index=False)
    print(f"{len(out)} actions from {len({p for p, _ in files})} files written to {sys.argv[2]}")


if __name__ == "__main__":
    main()
