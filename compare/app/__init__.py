"""The application: the `occam` command line (cli.py), the `occam compare` pipeline and its run
folder (pipeline.py), everything printed on the terminal (terminal.py), the HTML report
(report.py), its figures (plots.py) and the plain-data task summaries they share (describe.py)."""
