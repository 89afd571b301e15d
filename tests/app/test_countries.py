"""The country table covers exactly the ISO 3166-1 alpha-2 codes, each mapped to a known region."""

from app.countries import COUNTRY_REGION, REGIONS

# Independent, pinned copy of ISO 3166-1 alpha-2 (249 codes, from Debian iso-codes'
# iso_3166-1.json), so the test does not compare the table with itself.
_PINNED = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
"""
ISO_3166_1_ALPHA_2 = _PINNED.split()


def test_pinned_list_is_the_full_standard() -> None:
    assert len(ISO_3166_1_ALPHA_2) == len(set(ISO_3166_1_ALPHA_2)) == 249


def test_every_assigned_code_has_a_region_and_nothing_else_does() -> None:
    assert set(COUNTRY_REGION) == set(ISO_3166_1_ALPHA_2)
    assert set(COUNTRY_REGION.values()) == set(REGIONS)


def test_user_assigned_and_unknown_codes_are_absent() -> None:
    for code in ("XX", "T1", "ZZ", "AA", "QM", "EU", "UK"):
        assert code not in COUNTRY_REGION


def test_representative_countries() -> None:
    expected = {
        "DE": "eu",
        "GB": "eu",
        "ZA": "eu",
        "AE": "eu",
        "US": "us",
        "BR": "us",
        "CA": "us",
        "JP": "asia",
        "IN": "asia",
        "AU": "asia",
        "SG": "asia",
    }
    assert {code: COUNTRY_REGION[code] for code in expected} == expected
