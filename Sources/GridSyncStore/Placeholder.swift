import GridSyncCore
public enum GridSyncStorePlaceholder {}
