"""How many rows of a file are read and predicted at a time (no imports: the command
line's ``--help`` reads it before numpy is loaded)."""

#: Rows of a piece of :meth:`skion.datasets.RecordingFile.pieces` at most, by default:
#: 100 s at 50 kHz, 20 MB of float32 signal; ``skion predict`` of 60 million samples
#: with an HMM pipeline peaked at 1.3-1.8 GB of resident memory (docs/benchmarks.md,
#: "Reading a file a piece at a time").
PIECE_ROWS = 5_000_000
