from jarvis.cli.main import main

main()
