"""Loading 1,000,000 transactions from Arrow: `TransactionTable.from_arrow` against pandas.

The data is bench_incentives.py's year of deals (10,000 payees, one deal in ten split
60/40), as an Arrow table a Parquet file or a database driver would hand over: integer
ids, ``date32`` dates and cancellations (3% cancelled, the rest null), amounts as
``decimal128(12, 2)`` CNY, owners as ``dictionary<string>``; the splits as a second
table with ``decimal128(2, 1)`` shares. In one process, on the same table, it times:

* salesflow: ``TransactionTable.from_arrow(table, splits)``, and the same without the
  splits (the transaction columns alone);
* the peer a user would otherwise write: ``table.to_pandas()`` then
  ``TransactionTable.from_frame`` (pandas turns the decimals into ``Decimal`` objects and
  the dates into ``datetime.date`` objects);
* ``table.to_pandas(types_mapper=pd.ArrowDtype)`` then ``from_frame``, which reads those
  Arrow-backed columns as ``from_arrow`` does.

It checks the three tables are equal, column by column, and prints times and ratios.

    python benchmarks/bench_table_input.py
    python benchmarks/bench_table_input.py --transactions 20000 --payees 200
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from bench_incentives import bookings
from salesflow.incentives import TransactionTable

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")


def arrow_tables(data: dict[str, Any]) -> tuple[pa.Table, pa.Table]:
    """The deals and their splits as Arrow tables (amounts as exact decimals)."""
    cents = data["amounts"].astype(np.int64)
    # decimal128 values are 16-byte two's complement integers: the low word, then the sign
    words = np.stack([cents, cents >> 63], axis=1)
    amounts = pa.Array.from_buffers(
        pa.decimal128(12, 2), len(cents), [None, pa.py_buffer(words.tobytes())]
    )
    names = pa.array(data["payees"])
    deals = pa.table(
        {
            "id": data["ids"],
            "date": pa.array(data["dates"].astype("datetime64[D]"), pa.date32()),
            "amount": amounts,
            "owner": pa.DictionaryArray.from_arrays(data["owners"].astype(np.int32), names),
            "cancelled": pa.array(data["cancelled"], pa.date32()),
        }
    )
    splits = pa.table(
        {
            "transaction": data["ids"][data["split_transaction"]],
            "payee": names.take(pa.array(data["split_payee"])),
            "share": pa.array(list(data["split_share"]), pa.decimal128(2, 1)),
        }
    )
    return deals, splits


def best(run: Callable[[], T], repeats: int) -> tuple[T, float]:
    """The result and the best time of ``repeats`` runs."""
    seconds = float("inf")
    result: T | None = None
    for _ in range(repeats):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = run()
        seconds = min(seconds, time.perf_counter() - start)
    return result, seconds  # type: ignore[return-value]  # repeats >= 1


def same(left: TransactionTable, right: TransactionTable) -> bool:
    """Equal column by column (owners and split payees by name)."""
    return bool(
        np.array_equal(left.ids, right.ids)
        and np.array_equal(left.dates, right.dates)
        and np.array_equal(left.amounts, right.amounts)
        and [c.code for c in left.currencies] == [c.code for c in right.currencies]
        and np.array_equal(left.currency, right.currency)
        and np.array_equal(np.array(left.payees)[left.owners], np.array(right.payees)[right.owners])
        and np.array_equal(left.cancelled, right.cancelled, equal_nan=True)
        and np.array_equal(left.splits.transaction, right.splits.transaction)
        and np.array_equal(
            np.array(left.payees)[left.splits.payee], np.array(right.payees)[right.splits.payee]
        )
        and left.splits.shares() == right.splits.shares()
    )


def main() -> None:
    """Build the table three ways, check they are equal, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--payees", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    deals, splits = arrow_tables(bookings(args.transactions, args.payees))
    print(
        f"{deals.num_rows:,} transactions, {splits.num_rows:,} split rows, "
        f"{args.payees:,} payees (pyarrow {pa.__version__}, pandas {pd.__version__})"
    )
    ours, arrow_s = best(
        lambda: TransactionTable.from_arrow(deals, splits, currency="CNY"), args.repeat
    )
    _, columns_s = best(lambda: TransactionTable.from_arrow(deals, currency="CNY"), args.repeat)
    (frame, frame_splits), convert_s = best(lambda: (deals.to_pandas(), splits.to_pandas()), 1)
    peer, frame_s = best(
        lambda: TransactionTable.from_frame(frame, frame_splits, currency="CNY"), args.repeat
    )
    (typed, typed_splits), typed_convert_s = best(
        lambda: (deals.to_pandas(types_mapper=pd.ArrowDtype), splits.to_pandas()), 1
    )
    backed, backed_s = best(
        lambda: TransactionTable.from_frame(typed, typed_splits, currency="CNY"), args.repeat
    )
    peer_s, backed_total_s = convert_s + frame_s, typed_convert_s + backed_s
    print(
        f"salesflow from_arrow, with the splits          {arrow_s:8.3f} s  (best of {args.repeat})"
    )
    print(f"salesflow from_arrow, the transactions alone   {columns_s:8.3f} s")
    print(
        f"to_pandas() {convert_s:.3f} s + from_frame {frame_s:.3f} s = {peer_s:8.3f} s  "
        f"-> from_arrow is {peer_s / arrow_s:.1f}x faster"
    )
    print(
        f"to_pandas(ArrowDtype) {typed_convert_s:.3f} s + from_frame {backed_s:.3f} s = "
        f"{backed_total_s:.3f} s  -> from_arrow is {backed_total_s / arrow_s:.1f}x faster"
    )
    print(f"equal tables, column by column: {same(ours, peer) and same(ours, backed)}")


if __name__ == "__main__":
    main()
