import sys
from pathlib import Path

# Make `import siocodec` work from any test directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))
