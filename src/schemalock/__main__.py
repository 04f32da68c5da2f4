from schemalock.cli import main

main()
