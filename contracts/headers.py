"""HTTP header names the edge (CloudFront, WAF, ALB) and the app must spell the same way.

CloudFront sends `X-Origin-Verify` and the ALB's listener rule and the app check it; CloudFront's origin request
policy forwards exactly the request headers the app reads (its own viewer-country header, the consistency token);
the app answers with `X-Region`, `X-DB-Node` and the token, and CORS exposes them. Canonical case here; HTTP
names are case-insensitive, so lower-case them where a consumer wants that (the WAF's redaction list).
"""

from typing import Final

ORIGIN_VERIFY: Final = "X-Origin-Verify"  # CloudFront -> ALB rule -> app: the request came through CloudFront

# Country headers the app reads, most trusted first (app/geo.py: the first present one decides). Behind CloudFront
# only CloudFront's own header is forwarded; the other two are spoofable by a viewer and reach the app only
# where another CDN sets them.
CLOUDFRONT_VIEWER_COUNTRY: Final = "CloudFront-Viewer-Country"
CF_IPCOUNTRY: Final = "CF-IPCountry"
APPENGINE_COUNTRY: Final = "X-AppEngine-Country"
GEO: Final = (CLOUDFRONT_VIEWER_COUNTRY, CF_IPCOUNTRY, APPENGINE_COUNTRY)

# Read-your-writes: returned by writes, sent back on reads.
CONSISTENCY_TOKEN: Final = "X-Consistency-Token"
REGION: Final = "X-Region"  # response: the region the request was routed for
DB_NODE: Final = "X-DB-Node"  # response: the database node that answered (contracts.regions.NODE_NAMES)
AUTHORIZATION: Final = "Authorization"  # the analytics Bearer token

# Request headers whose value changes the app's answer, so caches must vary on them.
VARY: Final = (*GEO, CONSISTENCY_TOKEN)
# Response headers a browser on another origin may read (CORS).
EXPOSED: Final = (REGION, DB_NODE, CONSISTENCY_TOKEN)
