"""fetcher: resolve and fetch images (``fetch``) and the fetcher stage (``stage``)."""
