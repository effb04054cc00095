"""`python -m runner` and the `personalize-runner` script: the one place errors become statuses."""

from __future__ import annotations

import sys
import traceback

from runner.errors import ExitStatus, UserError


def main(argv: list[str] | None = None) -> int:
    from runner.cli import app

    try:
        app(args=argv, prog_name="personalize-runner", standalone_mode=True)
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else ExitStatus.ERROR)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(
            "personalize-runner: internal error (this is a bug in personalize-runner, "
            "please report it with the traceback above)",
            file=sys.stderr,
        )
        return ExitStatus.ERROR
    return ExitStatus.OK


if __name__ == "__main__":
    sys.exit(main())
