"""The analysis: when two functions agree (agree.py), the distillation of a network's function
into the shortest program that codes it (distill.py), and the comparison of a network's training
with the minimal programs, step by step (harness.py). No files, no terminal: values in, values out."""
