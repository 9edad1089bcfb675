import GridSyncCLI

GridSyncCommand.runMain()
