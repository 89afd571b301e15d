"""The caching table: which paths CloudFront caches, for how long, and what reaches the origin for each.

Managed policy IDs (CloudFront developer guide, "Use managed cache policies" / "Use managed origin request
policies" / "Use managed response headers policies", docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/):
- CachingDisabled 4135ea2d-6df8-44a3-9df3-4b5a84be39ad: used for the dynamic API (TTL 0, nothing in the key).
- CachingOptimized 658327ea-f89d-4fab-a63d-7e88639e58f6: not used; its default TTL is 1 day, and hashed
  assets should stay 1 year even when the origin sends no Cache-Control, so static gets its own policy.
- AllViewerExceptHostHeader b689b0a8-53d0-40ab-baf2-68738e2966ac: not used; it forwards every viewer header,
  including spoofable CF-IPCountry / X-AppEngine-Country, which the app would then trust. The API's own origin
  request policy forwards CloudFront's CloudFront-Viewer-Country and only the headers the API reads.
- SecurityHeadersPolicy 67f7725c-6f97-4210-82d7-5512b31e9d03: not used; its HSTS omits includeSubDomains and
  it lets the origin override frame options, so the distribution has its own stricter policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts import headers

CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

ONE_YEAR, ONE_DAY, ONE_HOUR = 31_536_000, 86_400, 3_600
READ_METHODS = ("GET", "HEAD", "OPTIONS")
CACHED_METHODS = ("GET", "HEAD")
ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

# What the API reads from a request, besides the path, the query string and the body. Viewer-sent geo headers
# (CF-IPCountry, X-AppEngine-Country) are deliberately absent: behind CloudFront only CloudFront's own
# CloudFront-Viewer-Country may decide a request's region.
API_HEADERS = (
    headers.CLOUDFRONT_VIEWER_COUNTRY,
    headers.CONSISTENCY_TOKEN,  # read-your-writes token from the app's write responses
    "Accept",
    "Accept-Language",
    "Content-Type",
    "Origin",
    "Referer",
    "User-Agent",
    "Access-Control-Request-Headers",
    "Access-Control-Request-Method",
)
STICKINESS_COOKIES = ("AWSALB", "AWSALBCORS")  # the ALB's lb-cookie stickiness only works if these reach it


@dataclass(frozen=True)
class CacheTier:
    """One row family of the table: TTLs, methods, and whether requests carry what the API needs."""

    name: str
    min_ttl: int
    default_ttl: int
    max_ttl: int
    allowed_methods: tuple[str, ...] = READ_METHODS
    dynamic: bool = False  # True: never cached (managed CachingDisabled) and forwards the API's headers
    # True: the app authenticates these requests (Bearer token or the dashboard's session cookie). CloudFront
    # forwards `Authorization` only from a cache policy's key, never from an origin request policy, and a policy
    # whose TTLs are all 0 cannot have a key (re:Post knowledge center "cloudfront-authorization-header";
    # aws-cdk#16977, #13441). So these get their own policy: Authorization, every cookie and the query in the key,
    # min and default TTL 0, max 1 s. With min TTL 0 CloudFront obeys the origin's `private, no-store` (CloudFront
    # API reference, CachePolicyConfig), which every such response carries (ANALYTICS.md): nothing is cached.
    authenticated: bool = False
    compress: bool = True  # False for streams: events must reach the viewer as the origin flushes them

    @property
    def cached(self) -> bool:
        return self.max_ttl > 0


SSE_HEARTBEAT_SECONDS = 15  # the stream's longest silence (app: STREAM_HEARTBEAT_MS <= 15000)
ANALYTICS = CacheTier(
    "analytics", min_ttl=0, default_ttl=0, max_ttl=1, allowed_methods=ALL_METHODS, dynamic=True, authenticated=True
)
# Server-Sent Events: uncached like the rest of analytics, uncompressed, GET only. CloudFront's origin response
# timeout also bounds the wait between two packets of a response (CloudFront developer guide, "Response timeout"),
# so the origin read timeout must exceed the heartbeat (components/cdn.py), as must the ALB idle timeout.
STREAM = CacheTier("stream", min_ttl=0, default_ttl=0, max_ttl=1, dynamic=True, authenticated=True, compress=False)
STATIC = CacheTier("static", min_ttl=ONE_DAY, default_ttl=ONE_YEAR, max_ttl=ONE_YEAR)
DOCS = CacheTier("docs", min_ttl=0, default_ttl=ONE_HOUR, max_ttl=ONE_HOUR)
API = CacheTier("api", min_ttl=0, default_ttl=0, max_ttl=0, allowed_methods=ALL_METHODS, dynamic=True)
DEFAULT_TIER = API  # anything unlisted is the API: never cached

# Path pattern -> tier, in CloudFront's evaluation order (first match wins). The authenticated analytics paths
# (issues 14 and 15) come first, then /api/*, so no API path can ever be caught by a static pattern; "?" matches
# one character, so the hashed patterns take name.<8 hex>.js / .css, the file names bundlers emit for immutable
# assets.
BEHAVIOURS: tuple[tuple[str, CacheTier], ...] = (
    ("/api/analytics/stream", STREAM),
    ("/api/analytics/*", ANALYTICS),
    ("/api/alerts*", ANALYTICS),
    ("/api/reports*", ANALYTICS),
    ("/dashboard*", ANALYTICS),
    ("/api/*", API),
    ("/docs*", DOCS),
    ("/openapi.json", DOCS),
    ("/static/*", STATIC),
    ("/assets/*", STATIC),
    ("*.????????.js", STATIC),
    ("*.????????.css", STATIC),
)
