"""Remote images for `image` fields: the policy (URLs, addresses) and the fetcher."""

from pixeldrive.remote_images.fetch import FetchedImage, ImageFetcher, to_data_uri
from pixeldrive.remote_images.policy import ImageRefused, check_address, check_url

__all__ = [
    "FetchedImage",
    "ImageFetcher",
    "ImageRefused",
    "check_address",
    "check_url",
    "to_data_uri",
]
