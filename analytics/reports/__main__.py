from analytics.reports.runner import main

raise SystemExit(main())
