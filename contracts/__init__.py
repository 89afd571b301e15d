"""Names several sides must agree on, defined once: regions, environment variables, HTTP headers, tags.

The stacks and components (what AWS is told), the app and the analytics jobs (what they read), the ops tool (what
it looks for) and localdev (what it starts) all import these modules instead of spelling the names themselves, so
adding a region or a variable is one edit and a drift cannot happen. Standard library only: the ops tool must keep
needing nothing but boto3, and the image must not grow for it.
"""
