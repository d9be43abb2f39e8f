"""The application: the `occam` command line (cli.py), the `occam compare` pipeline and its run
folder (pipeline.py), the terminal output (render.py), the HTML report (report.py), its figures
(plots.py) and the plain-data task summaries they share (describe.py)."""
