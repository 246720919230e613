from synctv.cli import main

raise SystemExit(main())
