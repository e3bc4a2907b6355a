"""How long the reference checks take on 100k lines (issue: "well under a second").

Run:  python benchmarks/reference_lookup.py [N]
Prints seconds for code_status (HCPCS known/deleted/not-yet/NOC) and modifier_status.
"""

import datetime as dt
import sys
import time

import numpy as np
import pandas as pd

from chargemaster.refcheck import code_status, modifier_status
from chargemaster.reference import bundled

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
rng = np.random.default_rng(7)
ref = bundled()
pool = list(ref.level2.index[:3000]) + [f"{c:05d}" for c in range(80047, 81047)] + ["G0999"]
codes = pd.Series(rng.choice(pool, n), dtype="str")
mods = pd.Series(rng.choice(["", "26", "TC", "RT LT", "ZZ", "QW 91"], n), dtype="str")
mods = mods.mask(mods.eq(""))
t = time.perf_counter()
status = code_status(codes, ref, dt.date(2026, 1, 1))
t_codes = time.perf_counter() - t
t = time.perf_counter()
mstatus = modifier_status(mods, ref, dt.date(2026, 1, 1))
t_mods = time.perf_counter() - t
print(
    f"{n:,} codes: code_status {t_codes:.3f} s ({int(status['deleted'].sum()):,} deleted, "
    f"{int(status['known'].eq(False).sum()):,} unknown); modifier_status {t_mods:.3f} s "
    f"({int(mstatus['unknown'].sum()):,} unknown)"
)
