//! Track simplification (Ramer–Douglas–Peucker) and card previews (being written).
