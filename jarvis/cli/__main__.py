from jarvis.cli.main import app

app(prog_name="jarvis")
