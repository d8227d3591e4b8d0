from supervision_kit.cli import main

raise SystemExit(main())
