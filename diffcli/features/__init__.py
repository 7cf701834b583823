"""What is built on a comparison: grids of points, batch files, step-size studies."""
