"""The board's own files: where the firmware is, which files the board runs, and
putting them on a real board (``twitchwatch flash``)."""
