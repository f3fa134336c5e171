"""Remote images for `image` fields: the policy (URLs, addresses) and the fetcher."""
