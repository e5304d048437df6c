from regionctl.cli.main import main

main()
