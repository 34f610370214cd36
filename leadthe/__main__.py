"""`python -m leadthe …` is `flask --app app leadthe …`."""
import sys

from flask.cli import FlaskGroup

from leadthe import create_app
from leadthe.cli import leadthe_cli


def main() -> None:
    cli = FlaskGroup(create_app=create_app, add_default_commands=False)

    for name, command in leadthe_cli.commands.items():
        cli.add_command(command, name)
    cli.main(args=sys.argv[1:], prog_name="python -m leadthe")


if __name__ == "__main__":
    main()
