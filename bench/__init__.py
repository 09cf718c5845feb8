"""Benchmarks, each printing one JSON line of figures: `python -m bench.<name>`."""
import sys

if sys.argv and sys.argv[0] == "-m":  # `python -m bench.<name>` (argv[0] is "-m" until found)
    import startup

    startup.prepare(program="bench")  # a quiet start, or a hint outside the environment
    startup.define_verbose_flag()
