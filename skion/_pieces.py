"""How many rows of a file are read and predicted at a time (no imports: the command
line's ``--help`` reads it before numpy is loaded)."""

#: Rows of a piece of :meth:`skion.datasets.RecordingFile.pieces` at most, by default:
#: 100 s at 50 kHz, 20 MB of float32 signal; what the models hold per row of it stays
#: under about 1 GB (docs/benchmarks.md, "Reading a file a piece at a time").
PIECE_ROWS = 5_000_000
