"""``storedesk email …`` commands (mounted by the main CLI as ``storedesk email``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from storedesk.channels.email.parser import parse_email

app = typer.Typer(help="E-mail channel tools.", no_args_is_help=True, add_completion=False)


@app.callback()
def _email() -> None:
    """E-mail channel tools."""


@app.command("parse")
def parse_command(
    file: Annotated[Path, typer.Argument(help="A raw RFC 5322 message (.eml); '-' reads standard input.")],
) -> None:
    """Parse one raw e-mail and print the parse result as JSON."""
    try:
        if str(file) == "-":
            raw = typer.get_binary_stream("stdin").read()
        else:
            raw = file.read_bytes()
    except FileNotFoundError:
        typer.echo(f"error: no such file: {file}", err=True)
        raise typer.Exit(code=1) from None
    except IsADirectoryError:
        typer.echo(f"error: {file} is a directory, not a mail file", err=True)
        raise typer.Exit(code=1) from None
    except OSError as error:
        typer.echo(f"error: cannot read {file}: {error.strerror or error}", err=True)
        raise typer.Exit(code=1) from None
    data = parse_email(raw).as_dict()
    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8"))
