"""The catalog: locus and kit lookups with lab spellings, user kits, rates with intervals."""

from __future__ import annotations

from pathlib import Path

import pytest

from patriline.reference import UnknownKitError, UnknownLocusError, default_catalog


@pytest.mark.parametrize(
    ("spelling", "name"),
    [("Y-GATA-H4", "YGATAH4"), ("YGATAH4", "YGATAH4"), ("GATA_H4", "YGATAH4"),
     ("dys389 i", "DYS389I"), ("DYS389-II", "DYS389II"), ("DYS385a/b", "DYS385"),
     ("DYS385", "DYS385"), ("Y-GATA-A4", "DYS439"), ("DYF387S1", "DYF387S1")],
)  # fmt: skip
def test_catalog_locus__aliases(spelling: str, name: str) -> None:
    assert default_catalog().locus(spelling).name == name


def test_catalog_resolve_column__copies_and_difference() -> None:
    cat = default_catalog()
    assert (cat.resolve_column("DYS385b").locus, cat.resolve_column("DYS385b").copy) == (
        "DYS385",
        1,
    )
    assert cat.resolve_column("dyf387s1_A").copy == 0
    assert cat.resolve_column("DYS389II-I").kind == "dys389_difference"
    with pytest.raises(UnknownLocusError) as info:
        cat.resolve_column("DYS3999")
    assert "unknown locus" in str(info.value)
    assert cat.suggest("DYS4488") == "DYS448"


@pytest.mark.parametrize(
    ("alias", "kit", "markers"),
    [("Yfiler Plus", "yfiler_plus", 27), ("PowerPlex Y23", "ppy23", 23), ("ppy", "ppy12", 12),
     ("minimal", "minimal", 9), ("SWGDAM", "swgdam", 11), ("yfiler", "yfiler", 17),
     ("RM 13", "rm13", 13)],
)  # fmt: skip
def test_catalog_kit__aliases_and_marker_counts(alias: str, kit: str, markers: int) -> None:
    """Marker counts as manufacturers state them (ystr-facts.md): copies of multi-copy loci
    counted (DYS385a/b twice; DYF387S1a/b twice in Yfiler Plus)."""
    cat = default_catalog()
    k = cat.kit(alias)
    assert k.id == kit and k.markers == markers
    if kit != "rm13":  # the RM kit counts DYF399S1 (3 copies) etc. as one marker each
        assert k.n_columns(cat) == markers
    with pytest.raises(UnknownKitError, match="known kits"):
        cat.kit("yfilre")


def test_load_kit_file__toml_and_csv(tmp_path: Path) -> None:
    cat = default_catalog()
    toml = tmp_path / "k.toml"
    toml.write_text(
        '[mylab]\nname = "My lab"\naliases = ["my lab kit"]\nloci = ["dys19", "Y-GATA-H4"]\n'
    )
    (kit,) = cat.load_kit_file(toml)
    assert kit.loci == ("DYS19", "YGATAH4") and cat.kit("My Lab Kit").id == "mylab"
    csv = tmp_path / "k.csv"
    csv.write_text("kit,locus\nsmall,DYS19\nsmall,DYS385a/b\n")
    assert cat.load_kit_file(csv)[0].loci == ("DYS19", "DYS385")
    bad = tmp_path / "bad.csv"
    bad.write_text("kit,locus\nx,DYS999\n")
    with pytest.raises(ValueError, match="DYS999"):
        cat.load_kit_file(bad)
    assert "mylab" not in default_catalog().kits  # user kits stay in their catalog


def test_locus_rate__published_counts() -> None:
    """DYS19 36/16,090 (YHRD via malan, ystr-facts.md); the 95% interval contains it."""
    locus = default_catalog().locus("DYS19")
    assert (locus.mutations, locus.meioses) == (36, 16090)
    lo, hi = locus.rate_interval(0.95)
    assert lo < 36 / 16090 < hi and lo > 0.0015 and hi < 0.0032
