package ecommerce_analytics.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's local file system with setPermission done by the JVM itself.
 *
 * <p>Without Hadoop's native library (pyspark does not ship it), RawLocalFileSystem sets the
 * mode of every folder it makes and every file it writes by starting a {@code chmod} process:
 * over a thousand processes for one small local batch. This class sets the same permission
 * bits with java.nio instead; a sticky bit, which java.nio cannot set, still goes to chmod.
 */
public class ForklessLocalFileSystem extends RawLocalFileSystem {

  private static final PosixFilePermission[] BY_BIT = {
    PosixFilePermission.OTHERS_EXECUTE,
    PosixFilePermission.OTHERS_WRITE,
    PosixFilePermission.OTHERS_READ,
    PosixFilePermission.GROUP_EXECUTE,
    PosixFilePermission.GROUP_WRITE,
    PosixFilePermission.GROUP_READ,
    PosixFilePermission.OWNER_EXECUTE,
    PosixFilePermission.OWNER_WRITE,
    PosixFilePermission.OWNER_READ,
  };

  @Override
  public void setPermission(Path path, FsPermission permission) throws IOException {
    if (permission.getStickyBit()) {
      super.setPermission(path, permission);
      return;
    }
    Files.setPosixFilePermissions(pathToFile(path).toPath(), posixPermissions(permission));
  }

  static Set<PosixFilePermission> posixPermissions(FsPermission permission) {
    short mode = permission.toShort();
    Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
    for (int bit = 0; bit < BY_BIT.length; bit++) {
      if ((mode & (1 << bit)) != 0) {
        permissions.add(BY_BIT[bit]);
      }
    }
    return permissions;
  }
}
