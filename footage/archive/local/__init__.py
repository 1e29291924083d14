"""Local recordings on disk: the on-disk layouts, the segment index and the local source."""
