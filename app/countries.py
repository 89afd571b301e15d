"""ISO 3166-1 alpha-2 country -> logical region (eu / us / asia).

Data only, so the routing code stays readable and the table can be checked for completeness on its own.
Rule used to assign a country: the AWS region with the lowest typical latency from it -- Europe, Africa, the
Middle East and the Caucasus go to ``eu`` (eu-west-1); the Americas, the South Atlantic and US Pacific
territories to ``us`` (us-east-1); the rest of Asia and Oceania to ``asia`` (ap-southeast-1).
"""

from typing import Final

from contracts.regions import REGIONS, Region

__all__ = ["COUNTRY_REGION", "REGIONS", "Region"]

_EU: Final = """
AD AE AL AM AO AT AX AZ BA BE BF BG BH BI BJ BV BW BY CD CF CG CH CI CM CV CY CZ DE DJ DK DZ EE EG
EH ER ES ET FI FO FR GA GB GE GG GH GI GM GN GQ GR GW HR HU IE IL IM IQ IR IS IT JE JO KE KM KW LB
LI LR LS LT LU LV LY MA MC MD ME MG MK ML MR MT MU MW MZ NA NE NG NL NO OM PL PS PT QA RE RO RS RU
RW SA SC SD SE SH SI SJ SK SL SM SN SO SS ST SY SZ TD TF TG TN TR TZ UA UG VA YE YT ZA ZM ZW
"""
_US: Final = """
AG AI AQ AR AS AW BB BL BM BO BQ BR BS BZ CA CL CO CR CU CW DM DO EC FK GD GF GL GP GS GT GY HN HT
JM KN KY LC MF MQ MS MX NI PA PE PM PR PY SR SV SX TC TT UM US UY VC VE VG VI
"""
_ASIA: Final = """
AF AU BD BN BT CC CK CN CX FJ FM GU HK HM ID IN IO JP KG KH KI KP KR KZ LA LK MH MM MN MO MP MV MY
NC NF NP NR NU NZ PF PG PH PK PN PW SB SG TH TJ TK TL TM TO TV TW UZ VN VU WF WS
"""

_BLOCKS: Final[tuple[tuple[Region, str], ...]] = (("eu", _EU), ("us", _US), ("asia", _ASIA))
COUNTRY_REGION: Final[dict[str, Region]] = {code: region for region, block in _BLOCKS for code in block.split()}
