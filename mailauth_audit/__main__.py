"""`python -m mailauth_audit` runs the same CLI as the `mailauth-audit` script."""

from .cli.main import main

if __name__ == "__main__":
    main()
