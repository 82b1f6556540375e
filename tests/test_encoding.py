"""The encoded form: encode∘decode is the identity; layouts and sentinels as documented."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patriline.encoding import EXTRA, MISSING, NULL, OFF_LADDER, Layout, decode, encode
from patriline.haplotype import Haplotype, parse_haplotype_string
from test_io_roundtrip import haplotype_st


@settings(max_examples=100, deadline=None)
@given(st.lists(haplotype_st(), max_size=6))
def test_encode_decode__identity(haps: list[Haplotype]) -> None:
    enc = encode(haps, Layout.universal())
    assert enc.values.dtype == np.int16 and enc.values.shape[1] == len(haps)
    assert [dict(h.alleles) for h in decode(enc)] == [dict(h.alleles) for h in haps]


def test_encode__sentinels_and_tenths() -> None:
    layout = Layout.for_loci(["DYS19", "DYS385", "DYS458", "DYS392", "DYS390"])
    h = parse_haplotype_string("DYS19=19,20,DYS385=11,13.2,DYS458=15.2,DYS392=null,DYS390=OL")
    enc = encode([h], layout)
    col = dict(zip(layout.column_names, enc.values[:, 0].tolist(), strict=True))
    assert col == {
        "DYS19": EXTRA,
        "DYS390": OFF_LADDER,
        "DYS392": NULL,
        "DYS385[0]": 110,
        "DYS385[1]": 132,
        "DYS458": 152,
    }
    assert enc.extras == {(0, "DYS19"): h["DYS19"]}
    assert encode([parse_haplotype_string("DYS19=14")], layout).values[1, 0] == MISSING


def test_layout__kit_columns_and_json() -> None:
    layout = Layout.for_kit("Yfiler Plus")
    assert layout.n_columns == 27 and layout.kit == "yfiler_plus"
    assert Layout.from_json(layout.to_json()) == layout
    assert layout.dys389 is not None
    with pytest.raises(ValueError, match="version"):
        Layout.from_json('{"version": 2, "loci": [], "copies": []}')
    with pytest.raises(ValueError, match="not in the layout"):
        encode([parse_haplotype_string("DYS576=18")], Layout.for_kit("minimal"))
