from footage.cli import main

main()
