from faceedit.cli import main

main()
