"""The offline demo: a bundled sample zone audited through StaticResolver (see `demo.py`)."""
