from convsram.cli import main

raise SystemExit(main())
